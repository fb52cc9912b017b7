//! The deadlock watchdog ([`watch`], `THREADKIT_DEADLOCK`) and the dump on SIGQUIT.
//!
//! # `THREADKIT_DEADLOCK`, without code
//!
//! The variable is read once per process, at the first thread threadkit starts (a
//! [`Thread::start`], a [`spawn`](crate::spawn), a scoped thread, a pool's first worker), and
//! the watchdog it asks for starts then: a program need not call anything. That costs one
//! relaxed load per thread start afterwards. A program that starts no thread (so can only
//! deadlock with itself on threads it did not start) calls [`watch_from_env`] early in `main`;
//! so does one that wants the watchdog's handle (it gets the one already started, if any). An
//! unknown value is reported on stderr at that first start (and returned by
//! [`watch_from_env`]), and no watchdog starts.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::deadlock::{Deadlock, deadlocks};
use crate::{JoinHandle, StartError, Thread};

/// A [`WatchAction::Callback`]: called with the new reports, on the watchdog's thread.
///
/// # Examples
///
/// ```
/// let f: threadkit::observe::watch::DeadlockCallback = Box::new(|found| assert!(found.is_empty()));
/// f(&[]);
/// ```
pub type DeadlockCallback = Box<dyn Fn(&[Deadlock]) + Send + Sync>;

/// What the watchdog does when it finds a deadlock.
///
/// # Examples
///
/// ```
/// use threadkit::observe::WatchAction;
/// let on_deadlock = WatchAction::Callback(Box::new(|found| eprintln!("{} deadlocks", found.len())));
/// assert!(matches!(on_deadlock, WatchAction::Callback(_)));
/// ```
#[non_exhaustive]
pub enum WatchAction {
    /// Print each new report to stderr and go on watching.
    Report,
    /// Print the reports and a thread dump to stderr, then abort the process.
    Abort,
    /// Call this with the new reports (on the watchdog's thread).
    Callback(DeadlockCallback),
}

/// A running watchdog, from [`watch`]: it stops when [`stop`](Watchdog::stop) is called (it
/// goes on when this handle is dropped).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::observe::{self, WatchAction};
/// let dog = observe::watch(Duration::from_millis(10), WatchAction::Report)?;
/// dog.stop();
/// # Ok::<(), threadkit::StartError>(())
/// ```
#[derive(Debug)]
pub struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Watchdog {
    /// Stops the watchdog and waits for its thread to end (at most one interval).
    ///
    /// # Examples
    ///
    /// ```
    /// let dog = threadkit::observe::watch(std::time::Duration::from_millis(5), threadkit::observe::WatchAction::Report)?;
    /// dog.stop();
    /// # Ok::<(), threadkit::StartError>(())
    /// ```
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }

    /// The watchdog's thread (a daemon named `threadkit-watchdog`).
    ///
    /// # Examples
    ///
    /// ```
    /// let dog = threadkit::observe::watch(std::time::Duration::from_millis(5), threadkit::observe::WatchAction::Report)?;
    /// assert_eq!(dog.thread().name(), "threadkit-watchdog");
    /// assert!(dog.thread().is_daemon());
    /// dog.stop();
    /// # Ok::<(), threadkit::StartError>(())
    /// ```
    pub fn thread(&self) -> &Thread {
        self.thread.thread()
    }
}

/// Starts a watchdog: a daemon thread that looks for deadlocks ([`deadlocks`]) every
/// `interval` and, for each one it has not reported yet, does `action`.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use threadkit::observe::{self, WatchAction};
///
/// let seen = Arc::new(Mutex::new(0));
/// let s = seen.clone();
/// let dog = observe::watch(
///     Duration::from_millis(5),
///     WatchAction::Callback(Box::new(move |found| *s.lock().unwrap() += found.len())),
/// )?;
/// std::thread::sleep(Duration::from_millis(30));
/// dog.stop();
/// assert_eq!(*seen.lock().unwrap(), 0); // nothing deadlocked here
/// # Ok::<(), threadkit::StartError>(())
/// ```
pub fn watch(interval: Duration, action: WatchAction) -> Result<Watchdog, StartError> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = Thread::builder()
        .name("threadkit-watchdog")
        .daemon(true)
        .spawn(move || {
            let mut reported: HashSet<Vec<(u64, u64)>> = HashSet::new();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(interval);
                let fresh: Vec<Deadlock> = deadlocks()
                    .into_iter()
                    .filter(|d| {
                        let key = d
                            .steps()
                            .iter()
                            .map(|s| (s.ident(), s.wait().since_raw))
                            .collect();
                        reported.insert(key)
                    })
                    .collect();
                if fresh.is_empty() {
                    continue;
                }
                match &action {
                    WatchAction::Report => report(&fresh),
                    WatchAction::Abort => {
                        report(&fresh);
                        eprintln!("{}", super::dump::dump());
                        eprintln!("threadkit: aborting on deadlock (THREADKIT_DEADLOCK=abort)");
                        std::process::abort();
                    }
                    WatchAction::Callback(f) => f(&fresh),
                }
            }
        })?;
    Ok(Watchdog { stop, thread })
}

fn report(found: &[Deadlock]) {
    for d in found {
        eprintln!("threadkit: {d}");
    }
}

/// The watchdog's interval when `THREADKIT_DEADLOCK` names none.
///
/// # Examples
///
/// ```
/// assert_eq!(threadkit::observe::DEFAULT_WATCH_INTERVAL, std::time::Duration::from_secs(1));
/// ```
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Reads `THREADKIT_DEADLOCK` (`report` or `abort`, with an optional `:interval_ms`, e.g.
/// `abort:200`) and starts the matching [`watch`]dog; `Ok(None)` when the variable is unset or
/// empty. An unknown value is an error naming it.
///
/// Not needed where threads are started: the first thread start reads the variable and starts
/// the watchdog by itself (see the [module](self)). Then this returns that watchdog's handle
/// (once) instead of starting a second one. Called before any thread starts, it reads the
/// variable now, and the first start no longer does.
///
/// # Examples
///
/// ```
/// // SAFETY: no other thread reads the environment meanwhile in this example.
/// unsafe { std::env::remove_var("THREADKIT_DEADLOCK") };
/// assert!(threadkit::observe::watch_from_env()?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn watch_from_env() -> Result<Option<Watchdog>, WatchEnvError> {
    // The automatic read, if it has not happened yet, will not happen.
    ENV_READ.store(true, Ordering::SeqCst);
    // Waits for an automatic start under way on another thread, then takes its handle.
    let mut started = env_dog();
    if let Some(dog) = started.take() {
        return Ok(Some(dog));
    }
    start_from_env()
}

/// Set once `THREADKIT_DEADLOCK` was read (by the first thread start or [`watch_from_env`]).
static ENV_READ: AtomicBool = AtomicBool::new(false);

/// The watchdog that the first thread start began from `THREADKIT_DEADLOCK`, until
/// [`watch_from_env`] takes its handle.
static ENV_DOG: Mutex<Option<Watchdog>> = Mutex::new(None);

fn env_dog() -> MutexGuard<'static, Option<Watchdog>> {
    // Nothing panics while it is held: it is always whole.
    ENV_DOG.lock().unwrap_or_else(|e| e.into_inner())
}

/// Called by every thread start (`threading::shutdown::install_hooks`): the first one reads
/// `THREADKIT_DEADLOCK` and starts the watchdog it asks for. Afterwards, one relaxed load.
#[inline]
pub(crate) fn watch_env_at_first_start() {
    if !ENV_READ.load(Ordering::Relaxed) {
        watch_env_now();
    }
}

#[cold]
#[inline(never)]
fn watch_env_now() {
    // Held while the watchdog's own thread starts: that start sees `ENV_READ` set and
    // returns at once; a concurrent `watch_from_env` waits here, then takes the handle.
    let mut started = env_dog();
    if ENV_READ.swap(true, Ordering::SeqCst) {
        return;
    }
    match start_from_env() {
        Ok(dog) => *started = dog,
        Err(e) => eprintln!("threadkit: {e}; no deadlock watchdog started"),
    }
}

/// Reads `THREADKIT_DEADLOCK` now and starts the watchdog it asks for.
fn start_from_env() -> Result<Option<Watchdog>, WatchEnvError> {
    let Ok(value) = std::env::var("THREADKIT_DEADLOCK") else {
        return Ok(None);
    };
    let Some((action, interval)) = parse_env(&value) else {
        return Err(WatchEnvError { value });
    };
    let Some(action) = action else {
        return Ok(None);
    };
    watch(interval, action)
        .map(Some)
        .map_err(|_| WatchEnvError { value })
}

/// `report|abort[:ms]` -> the action (`None` for an empty value) and the interval.
fn parse_env(value: &str) -> Option<(Option<WatchAction>, Duration)> {
    let value = value.trim();
    if value.is_empty() {
        return Some((None, DEFAULT_WATCH_INTERVAL));
    }
    let (name, interval) = match value.split_once(':') {
        Some((name, ms)) => (name, Duration::from_millis(ms.trim().parse().ok()?)),
        None => (value, DEFAULT_WATCH_INTERVAL),
    };
    let action = match name.trim() {
        "report" => WatchAction::Report,
        "abort" => WatchAction::Abort,
        _ => return None,
    };
    Some((Some(action), interval))
}

/// `THREADKIT_DEADLOCK` held a value [`watch_from_env`] does not know (or its watchdog
/// thread could not start).
///
/// # Examples
///
/// ```
/// // SAFETY: no other thread reads the environment meanwhile in this example.
/// unsafe { std::env::set_var("THREADKIT_DEADLOCK", "explode") };
/// let err = threadkit::observe::watch_from_env().unwrap_err();
/// assert_eq!(err.to_string(), "THREADKIT_DEADLOCK=\"explode\": expected report or abort, optionally with :interval_ms");
/// unsafe { std::env::remove_var("THREADKIT_DEADLOCK") };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEnvError {
    value: String,
}

impl std::fmt::Display for WatchEnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "THREADKIT_DEADLOCK={:?}: expected report or abort, optionally with :interval_ms",
            self.value
        )
    }
}

impl std::error::Error for WatchEnvError {}

/// Prints a thread dump ([`dump`](super::dump())) to stderr each time the process gets
/// SIGQUIT (Ctrl-\ in a terminal), as Go and the JVM do. The signal handler only wakes a
/// daemon thread (`threadkit-sigquit`), which makes and prints the dump. Unix only.
///
/// # Examples
///
/// ```
/// threadkit::observe::dump_on_signal()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(unix)]
pub fn dump_on_signal() -> std::io::Result<()> {
    use signal_hook::consts::SIGQUIT;
    use signal_hook::iterator::Signals;
    let mut signals = Signals::new([SIGQUIT])?;
    Thread::builder()
        .name("threadkit-sigquit")
        .daemon(true)
        .spawn(move || {
            for _ in signals.forever() {
                eprintln!("{}", super::dump::dump());
            }
        })
        .map_err(std::io::Error::other)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_value_is_parsed() {
        let (a, i) = parse_env("report").unwrap();
        assert!(matches!(a, Some(WatchAction::Report)));
        assert_eq!(i, DEFAULT_WATCH_INTERVAL);
        let (a, i) = parse_env(" abort:250 ").unwrap();
        assert!(matches!(a, Some(WatchAction::Abort)));
        assert_eq!(i, Duration::from_millis(250));
        assert!(parse_env("").unwrap().0.is_none());
        assert!(parse_env("abort:soon").is_none());
        assert!(parse_env("panic").is_none());
    }
}
