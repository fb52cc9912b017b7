//! What happens to a panic that ends a thread: Python's `threading.excepthook`.
//!
//! threadkit installs (once, when it first starts a thread) a panic hook that, for panics in
//! threads threadkit started, records the location and backtrace for the excepthook. Every
//! panic also goes to the hook that was installed before threadkit's (an error reporter's),
//! except where that is std's default hook, whose `thread 'NAME' panicked at` text the
//! excepthook's report replaces. When such a panic ends the thread, the excepthook gets it:
//! by default it prints Python's `Exception in thread NAME:` header, the location and the
//! message to stderr. [`set_panic_hook_enabled`]`(false)` leaves the panic hook alone.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::RefCell;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::atomic::{AtomicBool, Ordering};
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
/// A panic inside the hook itself is caught: as in Python, stderr gets
/// `Exception in threading.excepthook:` and the hook's own panic (location and message);
/// then, so that the thread's panic is not lost (Python reports only the hook's), the
/// thread's panic gets the [`default_excepthook`]'s report.
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

/// Calls the current excepthook, catching a panic inside it: that panic is reported under
/// Python's `Exception in threading.excepthook:` header, then the thread's panic gets the
/// default report.
pub(crate) fn call(thread: &Thread, report: &ThreadPanic) {
    let hook = HOOK.read().unwrap_or_else(|e| e.into_inner()).clone();
    let Some(hook) = hook else {
        // Only a failed write to stderr panics here, and a report about it could not be
        // written either.
        let _ = panic::catch_unwind(|| default_excepthook(thread, report));
        return;
    };
    let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| hook(thread, report))) else {
        return;
    };
    let message = payload_message(payload.as_ref());
    let location = take_stash()
        .filter(|s| s.message == message)
        .map(|s| s.location);
    let mut text = String::from("Exception in threading.excepthook:\n");
    match location {
        Some(loc) => text.push_str(&format!("panicked at {loc}:\n")),
        None => text.push_str("panicked:\n"),
    }
    text.push_str(&message);
    text.push('\n');
    // Written directly: `eprint!` itself panics when stderr is closed.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    drop(payload);
    let _ = panic::catch_unwind(|| default_excepthook(thread, report));
}

/// Whether threadkit's panic hook is (to be) in place; see [`set_panic_hook_enabled`].
static PANIC_HOOK_ENABLED: AtomicBool = AtomicBool::new(true);

/// Lets a host program keep threadkit's panic hook out of its way, or lets it back in.
///
/// By default, the first [`Thread::start`] installs a process-wide panic hook (Rust's
/// `std::panic::set_hook`) in front of the one installed before it. For a panic in a thread
/// threadkit started, it keeps the location and backtrace for the
/// [excepthook](set_excepthook)'s report and then calls the previous hook (an error
/// reporter such as Sentry or tracing-panic sees the panic) unless the previous hook is
/// std's default one, whose `thread 'NAME' panicked at` text the excepthook's
/// `Exception in thread NAME:` report replaces. Every other panic goes to the previous hook
/// untouched. (A previous hook that prints, or that itself calls std's default hook as most
/// reporters do, prints the panic before the excepthook reports it: where one report is
/// enough, make the excepthook quiet with `set_excepthook(|_, _| {})`.)
///
/// `set_panic_hook_enabled(false)`, called before the first start, keeps threadkit from
/// installing its hook; called later, it makes the installed hook pass every panic straight
/// to the previous one. Either way the excepthook still runs when a panic ends a thread, but
/// its report has no location or backtrace, and with std's default hook in place the panic
/// is printed twice (once by each): set a quiet excepthook if the host reports panics itself.
///
/// # Examples
///
/// ```
/// // A host that reports panics with its own hook, installed after threadkit's would be.
/// threadkit::set_panic_hook_enabled(false);
/// threadkit::set_excepthook(|_, _| {}); // the host's hook reports; the excepthook is quiet
/// let t = threadkit::Thread::new(|| {});
/// t.start()?;
/// t.join()?;
/// assert!(!threadkit::panic_hook_enabled());
/// threadkit::set_panic_hook_enabled(true);
/// threadkit::reset_excepthook();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_panic_hook_enabled(enabled: bool) {
    PANIC_HOOK_ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether threadkit's panic hook is enabled (the default); see [`set_panic_hook_enabled`].
///
/// # Examples
///
/// ```
/// assert!(threadkit::panic_hook_enabled());
/// ```
pub fn panic_hook_enabled() -> bool {
    PANIC_HOOK_ENABLED.load(Ordering::Relaxed)
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

/// What the panic hook last stashed on this thread, taken.
fn take_stash() -> Option<Stash> {
    STASH.try_with(|s| s.borrow_mut().take()).ok().flatten()
}

/// Builds the report of the panic whose payload ended the thread.
pub(crate) fn report(inner: &Inner, payload: &(dyn Any + Send)) -> ThreadPanic {
    let message = payload_message(payload);
    let stash = take_stash().filter(|s| s.message == message);
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
/// excepthook, then go to the previous hook unless that is std's default (which would print
/// them a second time).
pub(crate) fn install_panic_hook() {
    if std::thread::panicking() {
        return; // take_hook would panic; the next start installs it.
    }
    let previous = panic::take_hook();
    // `take_hook` leaves std's default hook in place, and a second call hands out that one:
    // std boxes its default hook in one place, so a box of it has the same address (its type
    // takes no bytes) and the same vtable as another. A hook anybody installed differs in its
    // vtable at least. Should two boxes of the default ever compare unequal (a build that
    // duplicates the vtable), the default hook would print threadkit threads' panics too: a
    // second report, never a lost one.
    let default = panic::take_hook();
    let chain = !std::ptr::eq(&*previous, &*default);
    drop(default);
    panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
        if !PANIC_HOOK_ENABLED.load(Ordering::Relaxed) || !in_started_thread() {
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
        if chain {
            previous(info);
        }
    }));
}

fn in_started_thread() -> bool {
    let p = registry::peek_current();
    // SAFETY: a non-null CURRENT pointer is valid on its own thread (see the registry).
    unsafe { p.as_ref() }.is_some_and(|i| matches!(i.kind, Kind::Started | Kind::LowLevel))
}
