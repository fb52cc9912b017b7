//! Exit like Python: when `main` returns, wait for every live non-daemon thread.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use super::excepthook;
use super::registry;
use super::thread::Kind;
use crate::sys;

/// Waits until every live non-daemon thread that threadkit started has ended, as Python does
/// at interpreter exit (`threading._shutdown`). Threads started meanwhile are waited for too;
/// the calling thread, daemon threads and `start_new_thread` threads are not.
///
/// threadkit calls this itself when the process exits normally (after `main` returns, or on
/// `std::process::exit`), unless [`set_join_at_exit`]`(false)` said not to. Call it yourself before exiting some other way (`abort`, `_exit`,
/// a signal) or on platforms without an exit hook.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let done = Arc::new(AtomicBool::new(false));
/// let d = done.clone();
/// let t = threadkit::Thread::builder().daemon(false).target(move || {
///     threadkit::sleep(std::time::Duration::from_millis(5));
///     d.store(true, Ordering::SeqCst);
/// });
/// t.start()?;
/// threadkit::shutdown();
/// assert!(done.load(Ordering::SeqCst));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[track_caller]
pub fn shutdown() {
    let me = registry::peek_current();
    loop {
        let pending: Vec<_> = registry::all()
            .into_iter()
            .filter(|t| {
                t.inner.kind == Kind::Started
                    && !t.inner.daemon.load(Ordering::Acquire)
                    && t.is_alive()
                    && !std::ptr::eq(std::sync::Arc::as_ptr(&t.inner), me)
            })
            .collect();
        if pending.is_empty() {
            return;
        }
        for t in pending {
            // A panic was already reported by the excepthook; nothing more to do with it.
            let _ = t.join();
        }
    }
}

/// Whether the process waits for non-daemon threads at exit; see [`set_join_at_exit`].
static JOIN_AT_EXIT: AtomicBool = AtomicBool::new(true);

/// Whether the process waits, when it exits, for the non-daemon threads threadkit started
/// (Python's model, and the default), or exits without waiting for them (Rust's: a host
/// program or a library that wants `main`'s return to end the process).
///
/// The choice is read when the process exits, so it may be made at any time before. With
/// `false`, threads still running when the process exits are stopped wherever they are, as
/// any Rust thread is; [`shutdown()`](fn@shutdown) still waits when called.
///
/// # Examples
///
/// ```
/// threadkit::set_join_at_exit(false);
/// assert!(!threadkit::join_at_exit());
/// let t = threadkit::Thread::builder().daemon(false).target(|| {});
/// t.start()?;
/// t.join()?;
/// threadkit::set_join_at_exit(true);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_join_at_exit(join: bool) {
    JOIN_AT_EXIT.store(join, Ordering::Relaxed);
}

/// Whether the process waits for non-daemon threads at exit (the default); see
/// [`set_join_at_exit`].
///
/// # Examples
///
/// ```
/// assert!(threadkit::join_at_exit());
/// ```
pub fn join_at_exit() -> bool {
    JOIN_AT_EXIT.load(Ordering::Relaxed)
}

/// Installs, once per process, the panic hook (unless disabled) and the exit hook.
pub(crate) fn install_hooks() {
    static PANIC: Once = Once::new();
    static EXIT: Once = Once::new();
    if !std::thread::panicking() && excepthook::panic_hook_enabled() {
        PANIC.call_once(excepthook::install_panic_hook);
    }
    EXIT.call_once(|| {
        sys::at_exit(at_exit);
    });
    // `THREADKIT_DEADLOCK`, read at the first thread start (one relaxed load afterwards).
    crate::observe::watch::watch_env_at_first_start();
}

extern "C" fn at_exit() {
    // The main thread counts as ended from here on, as in Python: joining it returns.
    registry::main_inner().finish();
    // Python's `_python_exit`: live pools stop taking work, so their workers can end.
    let _ = std::panic::catch_unwind(crate::futures::at_exit);
    // Nothing may unwind out of an `extern "C"` function.
    if join_at_exit() {
        let _ = std::panic::catch_unwind(shutdown);
    }
}
