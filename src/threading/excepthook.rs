//! What happens to a panic that ends a thread: Python's `threading.excepthook`.
//!
//! threadkit installs (once, when it first starts a thread) a panic hook that, for panics in
//! threads threadkit started, records the location and backtrace instead of printing; every
//! other panic goes to the hook that was installed before. When such a panic ends the
//! thread, the excepthook gets it: by default it prints Python's
//! `Exception in thread NAME:` header, the location and the message to stderr.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::RefCell;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::{Arc, RwLock};

use super::error::ThreadPanic;
use super::registry;
use super::thread::{Inner, Kind, Thread};

type Hook = Arc<dyn Fn(&Thread, &ThreadPanic) + Send + Sync + 'static>;

static HOOK: RwLock<Option<Hook>> = RwLock::new(None);

/// Replaces the function called when a thread started by threadkit ends with a panic, as
/// assigning Python's `threading.excepthook`. It runs in the panicking thread, after the
/// panic unwound the thread's body.
///
/// A panic inside the hook itself is caught and reported on stderr.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use threadkit::Thread;
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let s = seen.clone();
/// threadkit::set_excepthook(move |thread, panic| {
///     s.lock().unwrap().push(format!("{}: {}", thread.name(), panic.message()));
/// });
/// let t = Thread::builder().name("w").target(|| panic!("oops"));
/// t.start()?;
/// assert!(t.join().is_err());
/// assert_eq!(*seen.lock().unwrap(), ["w: oops"]);
/// threadkit::reset_excepthook();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_excepthook<F>(hook: F)
where
    F: Fn(&Thread, &ThreadPanic) + Send + Sync + 'static,
{
    *HOOK.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(hook));
}

/// Puts back the default excepthook ([`default_excepthook`]).
///
/// # Examples
///
/// ```
/// threadkit::set_excepthook(|_, _| {});
/// threadkit::reset_excepthook();
/// ```
pub fn reset_excepthook() {
    *HOOK.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The default excepthook, as Python's `threading.__excepthook__`: writes
///
/// ```text
/// Exception in thread NAME:
/// panicked at FILE:LINE:COLUMN:
/// MESSAGE
/// ```
///
/// (and a backtrace when `RUST_BACKTRACE` asked for one) to stderr in one write.
///
/// # Panics
///
/// Only if stderr cannot be written, as `eprint!`; the caller catches it.
///
/// # Examples
///
/// ```
/// // A custom hook that adds a line, then does what the default does.
/// threadkit::set_excepthook(|thread, panic| {
///     eprintln!("worker failed; restarting later");
///     threadkit::default_excepthook(thread, panic);
/// });
/// # threadkit::reset_excepthook();
/// ```
pub fn default_excepthook(thread: &Thread, panic: &ThreadPanic) {
    let _ = thread;
    let mut text = format!("Exception in thread {}:\n", panic.thread());
    match panic.location() {
        Some(loc) => text.push_str(&format!("panicked at {loc}:\n")),
        None => text.push_str("panicked:\n"),
    }
    text.push_str(panic.message());
    text.push('\n');
    if let Some(bt) = panic.backtrace() {
        text.push_str("stack backtrace:\n");
        text.push_str(bt);
        if !bt.ends_with('\n') {
            text.push('\n');
        }
    }
    // One `eprint!` (a single write of the whole text): it keeps lines of concurrent reports
    // apart, and goes through the test harness's output capture like any `eprintln!`.
    eprint!("{text}");
}

/// Calls the current excepthook, catching a panic inside it.
pub(crate) fn call(thread: &Thread, report: &ThreadPanic) {
    let hook = HOOK.read().unwrap_or_else(|e| e.into_inner()).clone();
    let result = panic::catch_unwind(AssertUnwindSafe(|| match hook {
        Some(h) => h(thread, report),
        None => default_excepthook(thread, report),
    }));
    if result.is_err() {
        let _ = writeln!(
            std::io::stderr().lock(),
            "Exception in threading excepthook for thread {}",
            report.thread()
        );
    }
}

/// What the panic hook saw, kept for the trampoline.
struct Stash {
    message: String,
    location: String,
    backtrace: Option<String>,
}

thread_local! {
    static STASH: RefCell<Option<Stash>> = const { RefCell::new(None) };
}

/// Builds the report of the panic whose payload ended the thread.
pub(crate) fn report(inner: &Inner, payload: &(dyn Any + Send)) -> ThreadPanic {
    let message = payload_message(payload);
    let stash = STASH
        .try_with(|s| s.borrow_mut().take())
        .ok()
        .flatten()
        .filter(|s| s.message == message);
    let (location, backtrace) = match stash {
        Some(s) => (Some(s.location), s.backtrace),
        None => (None, None),
    };
    ThreadPanic {
        thread: inner.name().to_string(),
        message,
        location,
        backtrace,
        payload: std::sync::Mutex::new(None),
    }
}

fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

/// Wraps the installed panic hook: panics in threads threadkit started are stashed for the
/// excepthook instead of printed.
pub(crate) fn install_panic_hook() {
    if std::thread::panicking() {
        return; // take_hook would panic; the next start installs it.
    }
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
        if !in_started_thread() {
            return previous(info);
        }
        let stash = Stash {
            message: payload_message(info.payload()),
            location: info
                .location()
                .map(|l| l.to_string())
                .unwrap_or_else(|| "<unknown>".into()),
            backtrace: {
                let bt = Backtrace::capture();
                (bt.status() == BacktraceStatus::Captured).then(|| bt.to_string())
            },
        };
        let _ = STASH.try_with(|s| *s.borrow_mut() = Some(stash));
    }));
}

fn in_started_thread() -> bool {
    let p = registry::peek_current();
    // SAFETY: a non-null CURRENT pointer is valid on its own thread (see the registry).
    unsafe { p.as_ref() }.is_some_and(|i| matches!(i.kind, Kind::Started | Kind::LowLevel))
}
